"""Every example student of the `cs231n` assignment and its expected outcome: the problems it
fails (all others earn full marks) and words the feedback on each must contain."""

OPTIM = ["cs231n.sgd_momentum", "cs231n.rmsprop", "cs231n.adam"]
RNN_LAYERS = ["cs231n.rnn_step_forward", "cs231n.rnn_step_backward", "cs231n.rnn_forward",
              "cs231n.rnn_backward", "cs231n.word_embedding_forward",
              "cs231n.word_embedding_backward"]

# student -> {failing problem: words its feedback contains}
EXPECTED = {
    "cs231n_folder": {},
    "cs231n_flat": {},
    "cs231n_caches": {},
    "cs231n_relu_inplace": {},
    "cs231n_adam_nobias": {"cs231n.adam": ["Known mistake", "bias correction"]},
    "cs231n_dropout_drop": {"cs231n.dropout_forward": ["Known mistake", "keep"],
                            "cs231n.dropout_backward": ["Known mistake", "keep"]},
    "cs231n_py2": {p: ["optim.py, line 24", "Python 2", "print("] for p in OPTIM},
    "cs231n_numpy2": {p: ["rnn_layers.py", "NumPy 2", "numpy.lib.utils"] for p in RNN_LAYERS},
    "cs231n_pass": {"cs231n.batchnorm_backward_alt": ["None"],
                    "cs231n.layernorm_forward": ["None"],
                    "cs231n.layernorm_backward": ["None"],
                    "cs231n.rnn_backward": ["rnn_backward returned None"],
                    "cs231n.word_embedding_backward": ["None"]},
}
