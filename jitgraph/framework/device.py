"""Device strings as TF normalizes them: ``/job:ps/replica:0/task:1/device:GPU:0``."""

import re

_FIELD = re.compile(r"^(job|replica|task|device|cpu|gpu|CPU|GPU)(?::(.*))?$")


class DeviceSpec:
    """Parsed device string; unset fields are None."""

    __slots__ = ("job", "replica", "task", "device_type", "device_index")

    def __init__(self, job=None, replica=None, task=None, device_type=None, device_index=None):
        self.job, self.replica, self.task = job, replica, task
        self.device_type, self.device_index = device_type, device_index

    @classmethod
    def from_string(cls, spec):
        out = cls()
        if not spec:
            return out
        for part in spec.split("/"):
            if not part:
                continue
            fields = part.split(":")
            key = fields[0]
            if key == "job" and len(fields) == 2:
                out.job = fields[1]
            elif key == "replica" and len(fields) == 2:
                out.replica = int(fields[1])
            elif key == "task" and len(fields) == 2:
                out.task = int(fields[1])
            elif key == "device" and len(fields) in (2, 3):
                out.device_type = fields[1].upper() if fields[1].lower() in ("cpu", "gpu") else fields[1]
                out.device_index = _index(fields[2]) if len(fields) == 3 else None
            elif key.lower() in ("cpu", "gpu") and len(fields) == 2:
                out.device_type = key.upper()
                out.device_index = _index(fields[1])
            else:
                raise ValueError(f"Unknown attribute: '{part}' in '{spec}'")
        return out

    def merge_from(self, other):
        """Fields set in ``other`` override ours (the inner device scope wins)."""
        for f in ("job", "replica", "task"):
            if getattr(other, f) is not None:
                setattr(self, f, getattr(other, f))
        if other.device_type is not None:
            self.device_type, self.device_index = other.device_type, other.device_index
        return self

    def to_string(self):
        s = ""
        if self.job is not None:
            s += f"/job:{self.job}"
        if self.replica is not None:
            s += f"/replica:{self.replica}"
        if self.task is not None:
            s += f"/task:{self.task}"
        if self.device_type is not None:
            s += f"/device:{self.device_type}:{'*' if self.device_index is None else self.device_index}"
        return s

    def __repr__(self):
        return f"DeviceSpec({self.to_string()!r})"


def _index(s):
    return None if s == "*" else int(s)


def canonical_name(spec):
    """Normalize a device string: ``/cpu:0`` → ``/device:CPU:0``; ``""``/None stay ``""``."""
    if not spec:
        return ""
    if isinstance(spec, DeviceSpec):
        return spec.to_string()
    return DeviceSpec.from_string(spec).to_string()


def merge_device(outer, inner):
    """Field-wise merge of two device strings, ``inner`` winning."""
    return DeviceSpec.from_string(outer).merge_from(DeviceSpec.from_string(inner)).to_string()
