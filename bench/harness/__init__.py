"""The peer benchmark harness: services, peers, seeding, wrk, ceilings and the table."""
