"""Live events fanned out across API instances through Redis pub/sub."""
