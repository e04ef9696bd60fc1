"""Image sources for the metrics: dataset_tool TFRecords, image folders, feature files."""
