"""plantwin.model"""
