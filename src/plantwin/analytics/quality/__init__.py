"""Quality prediction: the probability that a part fails inspection, from tool signals."""
