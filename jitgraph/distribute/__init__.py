"""Run unchanged TF1 between-graph-replication programs on parameter servers hosted by Ray.

    pip install 'jitgraph[distributed]'
    python -m jitgraph.distribute --ps 2 --workers 2 trainer.py [trainer args]

The TF1 surface lives in ``tf.train`` (``ClusterSpec``, ``Server``, ``replica_device_setter``,
``MonitoredTrainingSession`` and hooks). This package is the machinery behind it:

- ``placement``: which task owns each variable (from its device string);
- ``partition``: how one ``Session.run`` on a worker splits into pulls, a fused local part and
  stages run on the tasks (``stage_program``) in their own compiled plans;
- ``session``: ``DistributedSession``, what ``tf.Session(server.target)`` returns;
- ``parameter_server``: a task's variables and stages, engine-independent;
- ``backend`` / ``ray_backend``: the narrow engine adapter (in-process, Ray);
- ``launcher`` (``python -m jitgraph.distribute``): one machine, one command.
"""
