"""The use cases. Access policy and audit are applied here, once, for every read and write."""
