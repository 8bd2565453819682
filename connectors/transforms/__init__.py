"""Built-in value transforms (connectors.webvalues.ValueTransform), one module per family."""
