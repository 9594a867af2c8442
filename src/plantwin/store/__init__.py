"""plantwin.store"""
