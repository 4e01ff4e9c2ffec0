"""Shared infrastructure: settings, logging, clock, errors, Mongo and Redis set-up."""
