"""plantwin.twin"""
