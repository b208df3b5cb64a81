"""Comparing a student's answer with the expected one: a structured mismatch, and the message a
student reads, built from it."""
