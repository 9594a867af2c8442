"""plantwin.simulation"""
