"""In-graph tokenizers: strings to token ids and back, in TF ops only."""

from keras_seq.text.char_tokenizer import CharTokenizer
from keras_seq.text.replace_unknown_target import replace_unknown_target
from keras_seq.text.symbol_tokenizer import SymbolTokenizer
from keras_seq.text.tokenizer import Tokenizer
from keras_seq.text.wordpiece_tokenizer import WordPieceTokenizer

__all__ = ["CharTokenizer", "SymbolTokenizer", "Tokenizer", "WordPieceTokenizer",
           "replace_unknown_target"]
