"""plantwin.runtime"""
