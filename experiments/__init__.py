"""Experiments of the paper, runnable from run_metric.py."""
