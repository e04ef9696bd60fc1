"""Image features for the metrics: extraction by a feature network, the cached real-feature store, feature files."""
