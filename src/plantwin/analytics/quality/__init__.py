"""Quality prediction: the probability that a part fails inspection, from tool and process signals."""
