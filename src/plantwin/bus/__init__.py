"""Bus implementations: in-process fan-out (default); NATS JetStream for scale-out (planned)."""
