"""
The soak test with faults (``make soak``): the platform deployed as README's scale-out section
says, driven by Locust at a city's mix of requests while faults are injected, then checked.

- ``stack``: its own PostgreSQL instance and Redis server, gunicorn, two task clusters and the
  audit sequencer, as processes it starts and stops;
- ``fixture``: the city (residents, a service with its grant and OpenID client, tickets in
  review for the board, the secretariat) on top of the demo;
- ``locustfile``: the users and their rates; every request and every write the client saw
  committed goes to a JSON-lines log;
- ``faults``: the fault injector (SIGKILL of web workers and of a task cluster, Redis and
  PostgreSQL restarts, terminated database connections), bounded in time, loopback only;
- ``invariants``: what must hold afterwards, from the clients' log and the database;
- ``report``: latency percentiles, errors per window, throughput, recovery times;
- ``run``: the command that does it all, a baseline run then the run with faults.
"""
