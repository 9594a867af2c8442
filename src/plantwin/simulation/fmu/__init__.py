"""FMU co-simulation with FMPy: build source FMUs, step them with the stream."""
