"""From an inbox file to a verdict, without touching the store: what a file really is
(guard), its sheets (read), the tables in them (tables), clean values (normalise), the
problems (validate, messages), and what the file comes to (verdict); check runs them all."""
