"""The Forecaster interface and its families: recurrent, classical, naive (see registry)."""
