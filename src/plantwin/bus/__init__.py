"""plantwin.bus"""
