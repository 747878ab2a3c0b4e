"""NumPy kernels for sliding-window ops of any spatial rank: convolution, depthwise convolution,
max/average pooling and their gradients. The references behind ``Conv3D``, ``MaxPool3D``,
``DepthwiseConv2dNative`` and friends.

Arrays are channels-last, ``[N, *spatial, C]``; filters are ``[*ksize, C, O]`` (``[*ksize, C, M]``
for depthwise). A convolution gathers the window taps into a ``[N, *out, K, C]`` patch array
(``K`` = taps in the window, row-major) and contracts it with the filter in one BLAS call.
"""

import itertools

import numpy as np


# ---- geometry -----------------------------------------------------------------------------------
def out_dim(size, k, stride, dilation, padding):
    """``(output size, pad before, pad after)`` along one spatial dim (all None if size is None).

    ``VALID``: ``(size - (k-1)*dilation - 1) // stride + 1``; ``SAME``: ``ceil(size / stride)``,
    padded so the window is centred with the odd pixel after, as TF."""
    if size is None:
        return None, None, None
    eff = (k - 1) * dilation + 1
    if padding == "VALID":
        if size < eff:
            raise ValueError(f"Negative dimension size caused by subtracting {eff} from {size}")
        return (size - eff) // stride + 1, 0, 0
    out = -(-size // stride)
    total = max((out - 1) * stride + eff - size, 0)
    return out, total // 2, total - total // 2


def geometry(spatial, ksize, strides, dilations, padding):
    """Per spatial dim ``(out, pad_before, pad_after)``."""
    return [out_dim(n, k, s, d, padding) for n, k, s, d in zip(spatial, ksize, strides, dilations)]


def check_padding(padding, op_type):
    if padding not in ("SAME", "VALID"):
        raise ValueError(f"{op_type}: padding must be 'SAME' or 'VALID', got {padding!r}")


def _taps(ksize):
    return itertools.product(*(range(k) for k in ksize))


def _tap_index(tap, outs, strides, dilations):
    """The input positions (in the padded input) that window tap ``tap`` reads for every output."""
    return (slice(None),) + tuple(slice(t * d, t * d + s * (o - 1) + 1, s)
                                  for t, o, s, d in zip(tap, outs, strides, dilations)) + (slice(None),)


def _pad(x, geo, value=0):
    pads = [(0, 0)] + [(p0, p1) for _, p0, p1 in geo] + [(0, 0)]
    return np.pad(x, pads, constant_values=value) if any(p for pair in pads for p in pair) else x


def _crop(xp, geo, spatial):
    return xp[(slice(None),) + tuple(slice(p0, p0 + n) for (_, p0, _), n in zip(geo, spatial)) + (slice(None),)]


def patches(x, ksize, strides, dilations, padding, fill=0):
    """``[N, *out, K, C]``: every window tap of every output position (one copy)."""
    geo = geometry(x.shape[1:-1], ksize, strides, dilations, padding)
    outs = [o for o, _, _ in geo]
    xp = _pad(x, geo, fill)
    cols = np.empty((x.shape[0], *outs, int(np.prod(ksize)), x.shape[-1]), x.dtype)
    for t, tap in enumerate(_taps(ksize)):
        cols[..., t, :] = xp[_tap_index(tap, outs, strides, dilations)]
    return cols


def scatter_taps(dcols, x_shape, ksize, strides, dilations, padding):
    """The adjoint of ``patches``: add each tap's values back where it was read from."""
    spatial = x_shape[1:-1]
    geo = geometry(spatial, ksize, strides, dilations, padding)
    outs = [o for o, _, _ in geo]
    dxp = np.zeros((x_shape[0], *(n + p0 + p1 for n, (_, p0, p1) in zip(spatial, geo)), x_shape[-1]), dcols.dtype)
    for t, tap in enumerate(_taps(ksize)):
        dxp[_tap_index(tap, outs, strides, dilations)] += dcols[..., t, :]
    return _crop(dxp, geo, spatial)


# ---- convolution ----------------------------------------------------------------------------------
def conv(x, w, strides, dilations, padding):
    """``[N, *out, O]`` from ``x`` ``[N, *in, C]`` and ``w`` ``[*k, C, O]``."""
    ksize, o = w.shape[:-2], w.shape[-1]
    cols = patches(x, ksize, strides, dilations, padding)
    return (cols.reshape(-1, cols.shape[-2] * cols.shape[-1]) @ w.reshape(-1, o)).reshape(cols.shape[:-2] + (o,))


def conv_backprop_input(x_shape, w, dy, strides, dilations, padding):
    ksize, c, o = w.shape[:-2], w.shape[-2], w.shape[-1]
    dcols = (dy.reshape(-1, o) @ w.reshape(-1, o).T).reshape(dy.shape[:-1] + (int(np.prod(ksize)), c))
    return scatter_taps(dcols, x_shape, ksize, strides, dilations, padding)


def conv_backprop_filter(x, w_shape, dy, strides, dilations, padding):
    ksize, o = tuple(w_shape[:-2]), w_shape[-1]
    cols = patches(x, ksize, strides, dilations, padding)
    return (cols.reshape(-1, cols.shape[-2] * cols.shape[-1]).T @ dy.reshape(-1, o)).reshape(tuple(w_shape))


# ---- depthwise convolution: channel c meets only its own M filters, output channel c*M + m --------
def depthwise(x, w, strides, dilations, padding):
    ksize, c, m = w.shape[:-2], w.shape[-2], w.shape[-1]
    cols = patches(x, ksize, strides, dilations, padding)
    out = np.einsum("...kc,kcm->...cm", cols, w.reshape(-1, c, m), optimize=True)
    return out.reshape(out.shape[:-2] + (c * m,)).astype(x.dtype, copy=False)


def depthwise_backprop_input(x_shape, w, dy, strides, dilations, padding):
    ksize, c, m = w.shape[:-2], w.shape[-2], w.shape[-1]
    dcols = np.einsum("...cm,kcm->...kc", dy.reshape(dy.shape[:-1] + (c, m)), w.reshape(-1, c, m), optimize=True)
    return scatter_taps(dcols.astype(dy.dtype, copy=False), x_shape, ksize, strides, dilations, padding)


def depthwise_backprop_filter(x, w_shape, dy, strides, dilations, padding):
    ksize, c, m = tuple(w_shape[:-2]), w_shape[-2], w_shape[-1]
    cols = patches(x, ksize, strides, dilations, padding)
    dw = np.einsum("...kc,...cm->kcm", cols, dy.reshape(dy.shape[:-1] + (c, m)), optimize=True)
    return dw.reshape(tuple(w_shape)).astype(x.dtype, copy=False)


# ---- pooling --------------------------------------------------------------------------------------
def lowest(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def max_pool(x, ksize, strides, padding):
    ones = (1,) * len(ksize)
    return patches(x, ksize, strides, ones, padding, lowest(x.dtype)).max(axis=-2)


def max_pool_grad(x, g, ksize, strides, padding):
    """Each output's gradient goes to the first maximal tap of its window (row-major)."""
    ones = (1,) * len(ksize)
    cols = patches(x, ksize, strides, ones, padding, lowest(x.dtype))
    first = cols.argmax(axis=-2)
    dcols = np.zeros(cols.shape, g.dtype)
    np.put_along_axis(dcols, first[..., None, :], g[..., None, :], axis=-2)
    return scatter_taps(dcols, x.shape, ksize, strides, ones, padding)


def _window_counts(spatial, ksize, strides, padding, dtype):
    """How many real (unpadded) inputs each output window covers, ``[1, *out, 1]``."""
    ones = np.ones((1, *spatial, 1), dtype)
    return patches(ones, ksize, strides, (1,) * len(ksize), padding).sum(axis=-2)


def avg_pool(x, ksize, strides, padding):
    ones = (1,) * len(ksize)
    total = patches(x, ksize, strides, ones, padding).sum(axis=-2)
    return (total / _window_counts(x.shape[1:-1], ksize, strides, padding, x.dtype)).astype(x.dtype, copy=False)


def avg_pool_grad(x_shape, g, ksize, strides, padding):
    share = g / _window_counts(x_shape[1:-1], ksize, strides, padding, g.dtype)
    k = int(np.prod(ksize))
    dcols = np.broadcast_to(share[..., None, :], share.shape[:-1] + (k, share.shape[-1]))
    return scatter_taps(dcols, x_shape, ksize, strides, (1,) * len(ksize), padding).astype(g.dtype, copy=False)


# ---- layouts --------------------------------------------------------------------------------------
def to_channels_last(a, channels_first):
    return np.moveaxis(a, 1, -1) if channels_first else a


def from_channels_last(a, channels_first):
    return np.ascontiguousarray(np.moveaxis(a, -1, 1)) if channels_first else a
