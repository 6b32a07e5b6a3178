"""Reference data: code lists (代码表), poverty lines (贫困线) and per-region settings."""
