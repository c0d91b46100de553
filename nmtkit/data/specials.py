"""Special token ids, fixed for every nmtkit tokenizer (sentencepiece is trained with these)."""

PAD_ID = 0
UNK_ID = 1
BOS_ID = 2
EOS_ID = 3
PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<s>", "</s>"
