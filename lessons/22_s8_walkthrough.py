# %% [markdown]
# # Lesson 22 — Image and text classification, end to end (S8)
# Article 000's walk-through (§4, snippet S8) in code: data, model, training, prediction -- and the evaluation it leaves out -- for a CNN on chest films and a sequence-to-sequence model on clinical notes.
#
# Article 000 §4 promises "concrete code examples" and then describes two tasks in four steps
# each, without code:
#
# - **4.1 image classification** with a CNN: *data preparation* (an image data set "such as
#   ImageNet or CIFAR"), *model construction* ("convolutional layers, pooling layers, fully
#   connected layers", in a framework such as TensorFlow or PyTorch), *training* ("data
#   preprocessing, model initialisation, choice of optimizer, choice of loss function"; back-
#   propagation updates the weights to minimise the loss) and *prediction* (a new image gets a
#   class);
# - **4.2 text classification** with a **Seq2Seq model**: data ("such as IMDB or Twitter"), a
#   model of "encoder, decoder and word-embedding layer", the same training, and prediction.
#
# Here each step is code, on medical data that needs no download.  One step is added to both: a
# model is judged on data it never saw -- the article stops at prediction, which says nothing
# about whether the predictions are right.

# %%
import matplotlib.pyplot as plt
import numpy as np

import tinymed
from tinymed import Tensor, metrics, nn, optim
from tinymed.data import DataLoader, Tokenizer, chest_phantoms, clinical_notes, stratified_split
from tinymed.data.notes import DIAGNOSES
from tinymed.demo import standardize_images
from tinymed.explain import attention_rollout, capture_attention
from tinymed.lessons import out_dir, quick, save_figure
from tinymed.nn import functional as F
from tinymed.plot import plot_confusion_matrix

QUICK = quick()
tinymed.manual_seed(0)

# %% [markdown]
# ## 4.1 Image classification
#
# ### 4.1.1 Data preparation
#
# ImageNet and CIFAR are photographs of objects; ours are chest films.  `chest_phantoms` draws
# synthetic radiographs, half with pneumonia-like opacities (lesson 06), offline and with a known
# label.  Three parts: one to train on, one to watch training with, one to test once at the end.
# Preprocessing: each film is standardised by its own mean and standard deviation.

# %%
SIZE = 32
films = chest_phantoms(1000 if QUICK else 2400, size=SIZE, seed=0)
(X_train, y_train), (X_val, y_val), (X_test, y_test) = stratified_split(
    standardize_images(films.X), films.y, val=0.15, test=0.15, seed=0)
print(f"train {len(X_train)}, validation {len(X_val)}, test {len(X_test)} films of {SIZE}x{SIZE}; "
      f"classes {films.class_names}")

# %% [markdown]
# ### 4.1.2 Model construction
#
# The article's three kinds of layer: convolutions extract local features, pooling halves the
# resolution, and a fully connected layer turns the features into one number, the logit of
# pneumonia, $p = \sigma(z)$.

# %%
cnn = nn.Sequential(
    nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),      # 32 -> 16
    nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),     # 16 -> 8
    nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),    # 8 -> 4
    nn.Flatten(), nn.Linear(32 * 4 * 4, 1), nn.Flatten(start_dim=0),
)
print(cnn.summary())

# %% [markdown]
# ### 4.1.3 Training
#
# The four choices the article lists:
#
# - *preprocessing*: done above (per-film standardisation); the training films are shuffled into
#   batches of 32 by a `DataLoader`;
# - *initialisation*: every layer starts as PyTorch's does, weights uniform in
#   $\pm 1/\sqrt{\text{fan-in}}$ -- small enough that the first logits are near 0, random enough
#   that the filters differ;
# - *optimizer*: Adam, learning rate 0.002;
# - *loss*: binary cross-entropy from the logit (F12).
#
# Each step is forward, loss, backward (the gradients, F2), and the optimizer's update.

# %%
first = cnn[0].weight.numpy()
fan_in = first[0].size
print(f"first layer: {first.shape}, weights in [{first.min():.3f}, {first.max():.3f}], "
      f"bound 1/sqrt({fan_in}) = {1 / np.sqrt(fan_in):.3f}")
assert np.abs(first).max() <= 1 / np.sqrt(fan_in)

adam = optim.Adam(cnn.parameters(), lr=2e-3)
batches = DataLoader((X_train, y_train.astype(np.float32)), batch_size=32, shuffle=True)
curve = {"training loss": [], "validation loss": []}
for epoch in range(8 if QUICK else 15):
    cnn.train()
    losses = []
    for images, labels in batches:
        loss = F.binary_cross_entropy_with_logits(cnn(Tensor(images)), Tensor(labels))
        adam.zero_grad()
        loss.backward()
        adam.step()
        losses.append(loss.item())
    cnn.eval()
    with tinymed.no_grad():
        val_loss = F.binary_cross_entropy_with_logits(cnn(Tensor(X_val)), Tensor(y_val.astype(np.float32))).item()
    curve["training loss"].append(np.mean(losses))
    curve["validation loss"].append(val_loss)
    print(f"epoch {epoch + 1:2d}: training loss {np.mean(losses):.4f}, validation loss {val_loss:.4f}")
# training lowered the loss on films it never trained on (the best epoch to well under half the first)
assert min(curve["validation loss"]) < 0.5 * curve["validation loss"][0]

# %% [markdown]
# ### 4.1.4 Prediction, and the evaluation the article leaves out
#
# A new film goes in, a probability comes out, and a threshold (0.5) turns it into a class.  On the
# test films, which played no part in training: accuracy, recall (sensitivity: the share of sick
# patients found) and F1 (F19).

# %%
with tinymed.no_grad():
    probability = 1 / (1 + np.exp(-cnn(Tensor(X_test)).numpy()))
predicted = (probability >= 0.5).astype(int)
print("first five test films:", [f"{films.class_names[k]} ({p:.2f})" for k, p in zip(predicted[:5], probability[:5])])
image_scores = {"accuracy": metrics.accuracy_score(y_test, predicted), "recall": metrics.recall_score(y_test, predicted),
                "F1": metrics.f1_score(y_test, predicted)}
print(", ".join(f"{k} {v:.3f}" for k, v in image_scores.items()))
plot_confusion_matrix(metrics.confusion_matrix(y_test, predicted), labels=["normal", "pneumonia"],
                      path=out_dir() / "22_image_confusion.png", title="CNN on test films")
assert image_scores["accuracy"] > 0.85 and image_scores["recall"] > 0.8

# %% [markdown]
# ## 4.2 Text classification
#
# ### 4.2.1 Data preparation
#
# IMDB reviews and tweets are public but not medical; `clinical_notes` writes short admission
# notes with one of four diagnoses, built so that keywords alone mislead (shared symptoms, other
# diseases in the history, negated findings: lesson 08).  A tokenizer splits the text into words
# and gives each word of the training notes an id; the notes become rows of ids, padded with 0.

# %%
notes_train, labels_train = clinical_notes(800 if QUICK else 2000, seed=1)
notes_test, labels_test = clinical_notes(500 if QUICK else 1000, seed=2)
tokenizer = Tokenizer(min_freq=2).fit(notes_train)
length = max(len(Tokenizer.tokenize(note)) for note in list(notes_train) + list(notes_test))
ids_train = tokenizer.encode(list(notes_train), max_len=length)
ids_test = tokenizer.encode(list(notes_test), max_len=length)
print(f"[{DIAGNOSES[labels_train[0]]}] {notes_train[0]}")
print(f"-> {ids_train[0][:12]} ...; vocabulary {len(tokenizer.vocab)} words, notes padded to {length} tokens")

# %% [markdown]
# ### 4.2.2 Model construction: the article's Seq2Seq
#
# A sequence-to-sequence model *generates* a sequence: an encoder (embedding layer and GRU, F6)
# reads the note, a decoder (another embedding layer and GRU, attending over the encoder's
# states, F7-F8) writes the output word by word.  To classify with it, the class becomes the
# sequence to write: the decoder learns to answer "heart failure" -- the way text-to-text models
# treat every task as writing text.  `nn.Seq2Seq` is lesson 09's model.

# %%
answers = Tokenizer().fit(list(DIAGNOSES))
targets = answers.encode([DIAGNOSES[k] for k in labels_train], add_bos=True, add_eos=True)
print(f"'{DIAGNOSES[labels_train[0]]}' is written as {targets[0]} (<bos> ... <eos>)")
seq2seq = nn.Seq2Seq(len(tokenizer.vocab), len(answers.vocab), embed_dim=32, hidden_size=48)

# %% [markdown]
# ### 4.2.3 Training
#
# The same choices as for images -- the layers' own initialisation, Adam, cross-entropy -- with
# teacher forcing: the decoder is fed the true previous word of the answer, and the loss is the
# cross-entropy of every next word (`Seq2Seq.loss`).

# %%
tinymed.manual_seed(1)
adam = optim.Adam(seq2seq.parameters(), lr=5e-3)
order_rng = np.random.default_rng(0)
for epoch in range(6 if QUICK else 12):
    seq2seq.train()
    order = order_rng.permutation(len(ids_train))
    for start in range(0, len(order), 32):
        batch = order[start:start + 32]
        loss = seq2seq.loss(ids_train[batch], targets[batch])
        adam.zero_grad()
        loss.backward()
        adam.step()
    print(f"epoch {epoch + 1:2d}: loss {loss.item():.4f}")

# %% [markdown]
# ### 4.2.4 Prediction and evaluation
#
# The decoder writes its answer greedily, one most likely word after another, until `<eos>`.  A
# generator can write something that is no class at all; such an answer counts as wrong, and
# their share is reported (a deployed system has to check for them).

# %%
seq2seq.eval()
written, _ = seq2seq.greedy_decode(ids_test, max_len=5)
texts = answers.decode(written)
predicted_s2s = np.array([DIAGNOSES.index(t) if t in DIAGNOSES else -1 for t in texts])
for note, text in zip(notes_test[:2], texts[:2]):
    print(f"{note}\n  -> '{text}'")
text_scores = {"Seq2Seq": (metrics.accuracy_score(labels_test, predicted_s2s),
                           metrics.f1_score(labels_test, predicted_s2s, average="macro", labels=list(range(4))))}
print(f"Seq2Seq: accuracy {text_scores['Seq2Seq'][0]:.3f}, macro F1 {text_scores['Seq2Seq'][1]:.3f}, "
      f"{np.mean(predicted_s2s == -1):.1%} answers that are no diagnosis")
assert text_scores["Seq2Seq"][0] > (0.7 if QUICK else 0.8)

# %% [markdown]
# ### The usual design: the encoder alone
#
# Classification needs one answer, not a sentence, so the decoder can go: an encoder reads the
# note, its states are averaged over the words, and a linear layer gives the four diagnoses'
# logits.  Here the encoder is a Transformer layer (lesson 10) over word embeddings plus position
# embeddings (attention by itself ignores word order, and "no ankle swelling" needs it), with the
# padding masked.

# %%
class NoteClassifier(nn.Module):
    """Embedding + positions -> TransformerEncoderLayer -> mean over the words -> Linear."""

    def __init__(self, vocab_size, length, d_model=32, classes=4):
        super().__init__()
        self.words = nn.Embedding(vocab_size, d_model, padding_idx=0)
        self.positions = nn.Embedding(length, d_model)
        self.encoder = nn.TransformerEncoderLayer(d_model, 2, dim_feedforward=64, dropout=0.1, batch_first=True)
        self.head = nn.Linear(d_model, classes)

    def forward(self, ids):
        padding = ids == 0
        states = self.encoder(self.words(ids) + self.positions(np.arange(ids.shape[1])),
                              src_key_padding_mask=padding)
        real = Tensor((~padding)[..., None].astype(np.float32))
        return self.head((states * real).sum(dim=1) / real.sum(dim=1))


tinymed.manual_seed(2)
classifier = NoteClassifier(len(tokenizer.vocab), length)
adam = optim.Adam(classifier.parameters(), lr=3e-3)
for epoch in range(8 if QUICK else 15):
    classifier.train()
    order = order_rng.permutation(len(ids_train))
    for start in range(0, len(order), 32):
        batch = order[start:start + 32]
        loss = F.cross_entropy(classifier(ids_train[batch]), labels_train[batch])
        adam.zero_grad()
        loss.backward()
        adam.step()
classifier.eval()
with tinymed.no_grad():
    predicted_encoder = classifier(ids_test).numpy().argmax(axis=1)
text_scores["encoder + linear"] = (metrics.accuracy_score(labels_test, predicted_encoder),
                                   metrics.f1_score(labels_test, predicted_encoder, average="macro"))
print(f"{'':18s} {'accuracy':>9s} {'macro F1':>9s}")
for name, (acc, f1) in text_scores.items():
    print(f"{name:18s} {acc:9.3f} {f1:9.3f}")
plot_confusion_matrix(metrics.confusion_matrix(labels_test, predicted_encoder), labels=list(DIAGNOSES),
                      path=out_dir() / "22_text_confusion.png", title="encoder + linear on test notes")
assert text_scores["encoder + linear"][0] > (0.65 if QUICK else 0.8)

# %% [markdown]
# ### Which words?  Attention rollout
#
# The encoder's attention says where each position looked.  With the residual connection each
# position also keeps half of itself, so the flow from the input words to the averaged summary is
# $R = \mathrm{rownorm}(	frac12 A + 	frac12 I)$ (Abnar and Zuidema, 2020; with more layers the
# $R$'s multiply), and a word's share of the summary is the mean of its column over the real
# positions.  `capture_attention` records $A$ while the model runs.  (Attention shows where the
# model looked, not that what it saw decided the answer: lesson 20's tests apply to it too.)

# %%
shown = ids_test[:3]
with capture_attention(classifier) as attentions, tinymed.no_grad():
    classifier(shown)
rollout = attention_rollout(attentions)
fig, axes = plt.subplots(3, 1, figsize=(10, 7))
for ax, ids, label, flow in zip(axes, shown, labels_test[:3], rollout):
    real = ids != 0
    share = flow[real][:, real].mean(axis=0)
    words = [tokenizer.vocab.lookup_token(int(i)) for i in ids[real]]
    ax.bar(range(len(words)), share, color="tab:blue")
    ax.set_xticks(range(len(words)), words, rotation=70, fontsize=7)
    ax.set_title(f"{DIAGNOSES[label]}: top words {', '.join(words[j] for j in np.argsort(-share)[:4])}", fontsize=9)
    assert abs(share.sum() - 1) < 1e-5  # the summary is made of the note's words, all of it
    assert np.all(flow[real][:, ~real] == 0)  # and none of the padding, which is masked
fig.suptitle("attention rollout: each word's share of the note's summary")
fig.tight_layout()
save_figure(fig, "22_text_rollout.png", dpi=110)

# %% [markdown]
# ## Summary
#
# - Article 000's four steps are code: data preparation (splits, per-film standardisation;
#   tokenization), model construction (conv, pool and fully connected layers; encoder, decoder and
#   embeddings), training (initialisation, Adam, cross-entropy, backpropagation), prediction.
# - The fifth step, evaluation on data never used for training, is what turns a prediction into a
#   claim: accuracy, recall and F1 on the test films and notes.
# - A Seq2Seq model does classify -- by writing the class name -- and must be checked for answers
#   that are no class; an encoder with a linear head is the simpler design for one label per text.
# - Attention rollout shows which words the encoder's summary is made of.
#
# **Exercises.** (1) Train the CNN without the per-film standardisation: what happens to the
# validation loss?  (2) Give the Seq2Seq model only 2 epochs: does it write answers that are no
# diagnosis?  (3) Remove the position embeddings from `NoteClassifier` and compare its accuracy on
# notes with negations ("no ankle swelling").
