"""Tocsin's domain: subscribers, alerts, deliveries, audit. No Flask, no RQ, no provider SDKs."""
