"""Support module of the `cs231n` assignment, shipped into the student's package as
`cs231n/im2col.py`: turns the receptive fields of a convolution over images x (N, C, H, W)
into the columns of a matrix and back, so a convolution becomes one matrix product. It holds
no graded answers.

A column matrix has one row per (channel, field row, field column), channel slowest, and one
column per (output row, output column, image), image fastest.
"""
import numpy as np


def _output_size(size, field, padding, stride):
    span = size + 2 * padding - field
    if span < 0 or span % stride:
        raise ValueError(f"a field of {field} with padding {padding} and stride {stride} does "
                         f"not tile an input of size {size}")
    return span // stride + 1


def get_im2col_indices(x_shape, field_height, field_width, padding=1, stride=1):
    """Index arrays (k, i, j) into the padded input: entry [r, q] of the column matrix comes from
    channel k[r, 0], row i[r, q] and column j[r, q] of every image."""
    _, C, H, W = x_shape
    out_height = _output_size(H, field_height, padding, stride)
    out_width = _output_size(W, field_width, padding, stride)
    channel, row, col = np.indices((C, field_height, field_width)).reshape(3, -1, 1)
    out_row, out_col = np.indices((out_height, out_width)).reshape(2, 1, -1)
    return channel, row + stride * out_row, col + stride * out_col


def _padded(x, padding):
    return np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))


def im2col_indices(x, field_height, field_width, padding=1, stride=1):
    """The column matrix of x: shape (C * field_height * field_width, out_h * out_w * N)."""
    k, i, j = get_im2col_indices(x.shape, field_height, field_width, padding, stride)
    fields = _padded(x, padding)[:, k, i, j]  # (N, rows, positions)
    return fields.transpose(1, 2, 0).reshape(fields.shape[1], -1)


def col2im_indices(cols, x_shape, field_height=3, field_width=3, padding=1, stride=1):
    """The adjoint of im2col_indices: every column entry is added back to the input position it
    was read from (overlapping fields add up), padding removed."""
    N, C, H, W = x_shape
    k, i, j = get_im2col_indices(x_shape, field_height, field_width, padding, stride)
    fields = cols.reshape(cols.shape[0], -1, N).transpose(2, 0, 1)
    x_padded = np.zeros((N, C, H + 2 * padding, W + 2 * padding), dtype=cols.dtype)
    np.add.at(x_padded, (slice(None), k, i, j), fields)
    return x_padded[:, :, padding:padding + H, padding:padding + W]
