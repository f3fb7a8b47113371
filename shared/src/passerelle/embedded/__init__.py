"""Servers `passerelle up`, the demo and the tests run on this machine: nats-server and PostgreSQL from
their wheels, their credentials, and the supervision that makes them die with `up`."""
