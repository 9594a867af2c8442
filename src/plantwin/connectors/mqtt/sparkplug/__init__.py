"""Sparkplug B host application: births, deaths, aliases, sequence numbers, rebirth requests."""
