"""Token-id conventions shared by every tokenizer, model and decoding loop."""

PAD = 0
UNK = 1
BOS = 2
EOS = 3
SPECIAL_TOKENS = ("<pad>", "<unk>", "<s>", "</s>")
