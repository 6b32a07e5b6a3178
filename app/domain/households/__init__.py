"""The household registry (建档立卡): records, their lifecycle, imports and exports."""
