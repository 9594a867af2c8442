"""plantwin.api"""
