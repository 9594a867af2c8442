"""plantwin.processing"""
