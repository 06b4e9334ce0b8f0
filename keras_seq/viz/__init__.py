"""Plots for decoded models: attention heatmaps and metric-by-length curves."""

from keras_seq.viz.attention_heatmap import plot_attention
from keras_seq.viz.length_curve import plot_length_curve

__all__ = ["plot_attention", "plot_length_curve"]
