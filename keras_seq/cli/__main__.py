"""`python -m keras_seq.cli`, the same as the `keras-seq` command."""

import sys

from keras_seq.cli import main

sys.exit(main())
