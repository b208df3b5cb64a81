"""Reference solutions for the `cs231n` assignment: update rules (`optim`), layers with a
forward and a backward pass (`layers`) and recurrent layers (`rnn_layers`), API-compatible with
the CS231n assignment files. Each module also holds the declared known mistakes of its
functions, as functions named after the wrong idea they encode.
"""
