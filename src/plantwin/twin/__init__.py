"""The live twin: latest values, derived signals, discrete states and their roll-up."""

from plantwin.twin.state import SignalValue, StateView, TwinState, TwinUpdate, TwinView

__all__ = ["SignalValue", "StateView", "TwinState", "TwinUpdate", "TwinView"]
