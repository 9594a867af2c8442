"""plantwin.analytics"""
