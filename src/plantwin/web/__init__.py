"""plantwin.web"""
