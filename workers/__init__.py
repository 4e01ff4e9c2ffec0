"""Dramatiq broker and actors. Actors take ids, call domain code, and are safe to run twice."""
