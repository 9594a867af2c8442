"""plantwin.reports"""
