# %% [markdown]
# # Lesson 12 — Knowledge graphs: ranking drug candidates with PageRank and HITS
# PageRank ranks drug candidates for a disease and finds a hidden indication; HITS finds hubs and authorities.
#
# The graph holds well-known facts only. Personalised PageRank from a disease ranks the
# drugs a short walk away — and recovers an indication we hide from it; HITS separates
# the drugs (hubs) from the diseases and genes they point to (authorities).
#
# Article 004 §2 (图谱学: build a relation graph of diseases, drugs and genes and mine it)
# and §3 ("common graph algorithms are PageRank and HITS"); formula F18.

# %%
import matplotlib.pyplot as plt
import numpy as np

from tinymed.graph import (
    KnowledgeGraph,
    PowerIterationFailedConvergence,
    google_matrix,
    hits,
    load_medical_kg,
    pagerank,
)
from tinymed.lessons import quick, save_figure

# %% [markdown]
# ## 1. The graph
#
# `load_medical_kg()` reads a CSV shipped with tinymed: each row is a fact with its
# source named — an approved indication (*drug treats disease*, FDA label), a drug's target
# (*drug targets gene*, DrugBank), or a gene–disease association (OMIM, GWAS Catalog).
# It is small on purpose, for teaching; it is not a clinical resource.

# %%
kg = load_medical_kg()
COLUMN_ORDER = ("drug", "disease", "gene")  # how the matrices below are laid out
print(kg)
print("relations:", kg.relations())
print("imatinib ->", kg.successors("imatinib"))
print("what treats type 2 diabetes:", [n for n in kg.predecessors("type 2 diabetes") if kg.node_type(n) == "drug"])

# %% [markdown]
# ## 2. PageRank (F18)
#
# A random walker follows an edge with probability $\alpha$ (0.85) and otherwise jumps to
# a node drawn from $p$. With $P_{ij} = A_{ij} / \sum_k A_{ik}$ the row-normalised
# adjacency, the scores are the fixed point of
#
# $$x^{(t+1)} = \alpha\left(x^{(t)} P + \Big(\sum_{j \text{ dangling}} x^{(t)}_j\Big)\, p\right) + (1 - \alpha)\, p,$$
#
# iterated until $\lVert x^{(t+1)} - x^{(t)} \rVert_1 < N \cdot 10^{-6}$ (networkx's rule).
# Nodes without out-edges ("dangling": here every disease) hand their score back to $p$.
# On the directed graph, score flows drug → gene → disease, so diseases with many
# treatments and genes collect it.

# %%
pr = pagerank(kg)
print(f"sum of scores: {sum(pr.values()):.12f}")
for node in sorted(pr, key=pr.get, reverse=True)[:6]:
    print(f"  {pr[node]:.4f}  {node} ({kg.node_type(node)})")

# %% [markdown]
# ### The Google matrix: the whole walk as one matrix
#
# Every step of the walker is one row-stochastic matrix, the *Google matrix*
#
# $$G = \alpha \hat P + (1 - \alpha)\, \mathbf 1 p^\top,$$
#
# where $\hat P$ is $P$ with each dangling row replaced by $p^\top$ (a node whose edges all
# weigh 0 counts as dangling too). Row $i$ says where the walker goes from node $i$; every
# row sums to 1. PageRank is the distribution the walk settles into, $x^\top G = x^\top$: the
# eigenvector of $G^\top$ for its largest eigenvalue, 1. The iteration above is the power
# method on $G^\top$ — it never builds $G$, which for a real graph would be dense and
# enormous; here, with 107 nodes, we can build it and look.

# %%
G = google_matrix(kg)
eigenvalues, eigenvectors = np.linalg.eig(G.T)
leading = np.argmax(eigenvalues.real)
x = eigenvectors[:, leading].real / eigenvectors[:, leading].real.sum()
pr_tight = pagerank(kg, tol=1e-13, max_iter=1000)
gap = np.max(np.abs(x - np.array([pr_tight[n] for n in kg.nodes()])))
second = np.sort(np.abs(eigenvalues))[-2]
print(f"G is {G.shape[0]} x {G.shape[1]}, rows sum to 1 (largest error {np.abs(G.sum(axis=1) - 1).max():.1e}); "
      f"largest eigenvalue {eigenvalues[leading].real:.12f}, next |lambda| {second:.3f}")
print(f"its eigenvector, scaled to sum 1, against PageRank: largest difference {gap:.1e}")
order = np.argsort([COLUMN_ORDER.index(kg.node_type(n)) for n in kg.nodes()], kind="stable")
fig_g, ax = plt.subplots(figsize=(6.5, 5.5))
image = ax.imshow(G[np.ix_(order, order)], cmap="magma_r", norm=plt.matplotlib.colors.LogNorm(vmin=G.min(), vmax=1))
for boundary in np.cumsum([len(kg.nodes(t)) for t in COLUMN_ORDER])[:-1]:
    ax.axhline(boundary - 0.5, color="c", lw=0.8)
    ax.axvline(boundary - 0.5, color="c", lw=0.8)
ax.set_title("Google matrix G (rows: from, columns: to)\ndrugs | diseases | genes; dark = likely step")
fig_g.colorbar(image, ax=ax, label="probability of the step")
save_figure(fig_g, "12_google_matrix.png", dpi=110)

# %% [markdown]
# ## 3. Personalised PageRank: drug candidates for a disease
#
# Put all of $p$ on one disease and walk the graph in both directions: the score of a
# drug is then how easily the walker reaches it from that disease — through drugs that
# treat it, their targets, and other drugs on those targets. Drugs already indicated
# for the disease are known; the best-scored *other* drugs are candidates.
#
# A test we can check: hide the fact *semaglutide treats obesity* and ask for obesity's
# candidates.

# %%
def without_edge(graph, a, b):
    """An undirected copy of ``graph`` without the edges between ``a`` and ``b``."""
    out = KnowledgeGraph(directed=False)
    for node in graph.nodes():
        out.add_node(node, graph.node_type(node))
    for u, v, data in graph.edges(data=True):
        if {u, v} != {a, b}:
            out.add_edge(u, v, data["relation"], data["weight"])
    return out


def candidates(graph, disease, alpha=0.85):
    """Drugs not yet linked to ``disease``, best personalised-PageRank score first."""
    ppr = pagerank(graph, alpha=alpha, personalization={disease: 1.0})
    known = set(graph.successors(disease))
    ranked = sorted((d for d in graph.nodes("drug") if d not in known), key=lambda d: -ppr[d])
    return ranked, ppr


hidden = without_edge(kg, "semaglutide", "obesity")
ranked, ppr_obesity = candidates(hidden, "obesity")
print("obesity's known drugs:", [n for n in hidden.successors("obesity") if hidden.node_type(n) == "drug"])
print("top candidates:", [(d, round(ppr_obesity[d], 4)) for d in ranked[:5]])

# %% [markdown]
# Semaglutide comes first: it shares its target GLP1R with liraglutide, which treats
# obesity. Is that luck? Hide each *treats* fact in turn and record the rank of the hidden
# drug among its disease's candidates (leave-one-out). A ranking that knew nothing would
# put it, on average, in the middle.

# %%
ranks, chance = [], []
facts = kg.edges(relation="treats")
for drug, disease in facts[: 20 if quick() else len(facts)]:
    graph = without_edge(kg, drug, disease)
    if not graph.successors(drug):  # no other link: no walk can find it, skip
        continue
    ranked, _ = candidates(graph, disease)
    ranks.append(ranked.index(drug) + 1)
    chance.append(np.mean(1 / np.arange(1, len(ranked) + 1)))
mrr, mrr_chance = np.mean(1 / np.array(ranks)), np.mean(chance)
print(f"{len(ranks)} hidden indications: median rank {np.median(ranks):.0f} of ~{len(kg.nodes('drug'))} drugs, "
      f"mean reciprocal rank {mrr:.2f} (random order: {mrr_chance:.2f})")

# %% [markdown]
# ## 4. HITS: hubs and authorities
#
# A good *hub* points to good *authorities*; a good authority is pointed to by good hubs:
#
# $$a = A^\top h, \qquad h = A\, a,$$
#
# each rescaled to a maximum of 1 after every step, until the hubs change by less than
# `tol` (L1). At the end, with `normalized=True` (networkx's default), both are divided by
# their sums, so the scores printed below sum to 1; `normalized=False` keeps the
# maximum-1 scaling of the iteration. On the directed graph the drugs are hubs and the
# diseases and genes they point to are authorities. The iteration is a power method on
# $A A^\top$: it converges at the rate $(\sigma_2 / \sigma_1)^2$ of the two largest singular
# values of $A$ — here close together, so the default 100 iterations are not enough, and
# tinymed says so.
#
# When the two are *equal* there is no single answer at all. Every undirected bipartite
# graph — a star, a tree, drugs linked only to diseases — has $\sigma_1$ twice, and every
# vector of that two-dimensional subspace solves the equations: the power iteration
# returns the part of its start vector that lies there, networkx's ARPACK some other one.
# Both are right; only with a simple $\sigma_1$ do libraries (and hubs and authorities of
# an undirected graph) have to agree.

# %%
sigma = np.linalg.svd(kg.adjacency().toarray(), compute_uv=False)
print(f"sigma_1 = {sigma[0]:.3f}, sigma_2 = {sigma[1]:.3f}: error shrinks by {(sigma[1] / sigma[0])**2:.2f} per step")
try:
    hits(kg)
    converged_by_default = True
except PowerIterationFailedConvergence as err:
    converged_by_default = False
    print("default max_iter:", err)
hubs, authorities = hits(kg, max_iter=1000)
print("top hubs:       ", [(n, round(hubs[n], 3)) for n in sorted(hubs, key=hubs.get, reverse=True)[:4]])
print("top authorities:", [(n, round(authorities[n], 3)) for n in sorted(authorities, key=authorities.get,
                                                                         reverse=True)[:4]])
print(f"they sum to {sum(hubs.values()):.6f} and {sum(authorities.values()):.6f} (normalized=True)")
hubs_raw, authorities_raw = hits(kg, max_iter=1000, normalized=False)
print(f"with normalized=False the largest hub score is {max(hubs_raw.values()):.6f}, "
      f"the largest authority score {max(authorities_raw.values()):.6f}")

# %% [markdown]
# ## 5. Picture
#
# Drugs on the left, genes in the middle, diseases on the right; each column ordered to
# keep linked nodes level. Node area: personalised PageRank from obesity (with the
# semaglutide fact hidden). Matplotlib only.

# %%
COLUMN = {"drug": 0.0, "gene": 1.0, "disease": 2.0}
COLOUR = {"treats": "tab:green", "targets": "tab:blue", "associated_with": "tab:purple"}


def layered_positions(graph):
    """x by node type; y by repeated averaging of neighbours' y (a barycentre ordering)."""
    und = graph.to_undirected()
    y = {n: k / max(1, len(graph.nodes(t)) - 1) for t in COLUMN for k, n in enumerate(sorted(graph.nodes(t)))}
    for _ in range(20):
        for t in COLUMN:
            nodes = graph.nodes(t)
            target = {n: np.mean([y[m] for m in und.successors(n)]) if und.successors(n) else y[n] for n in nodes}
            for k, n in enumerate(sorted(nodes, key=target.get)):
                y[n] = k / max(1, len(nodes) - 1)
    return {n: (COLUMN[graph.node_type(n)], y[n]) for n in graph.nodes()}


pos = layered_positions(kg)
fig, (ax, bar) = plt.subplots(1, 2, figsize=(15, 11), gridspec_kw={"width_ratios": [3, 1]})
for u, v, data in kg.edges(data=True):
    hidden_fact = {u, v} == {"semaglutide", "obesity"}
    ax.plot(*zip(pos[u], pos[v]), color="red" if hidden_fact else COLOUR[data["relation"]],
            ls="--" if hidden_fact else "-", lw=1.5 if hidden_fact else 0.5, alpha=0.9 if hidden_fact else 0.4)
score = np.array([ppr_obesity[n] for n in kg.nodes()])
xy = np.array([pos[n] for n in kg.nodes()])
ax.scatter(xy[:, 0], xy[:, 1], s=20 + 3000 * score, c=[COLUMN[kg.node_type(n)] for n in kg.nodes()],
           cmap="viridis", zorder=3, edgecolors="k", linewidths=0.3)
for n, (x, y) in pos.items():
    ax.text(x + (-0.04 if x == 0 else 0.04), y, n, fontsize=6, va="center",
            ha="right" if x == 0 else "left", fontweight="bold" if n in ("obesity", "semaglutide") else None)
for label, colour in COLOUR.items():
    ax.plot([], [], color=colour, label=label)
ax.plot([], [], color="red", ls="--", label="hidden: semaglutide treats obesity")
ax.legend(loc="lower center", bbox_to_anchor=(0.5, -0.06), ncol=4, fontsize=8)
ax.set_xlim(-0.7, 2.7)
ax.set_xticks([0, 1, 2], ["drugs", "genes", "diseases"])
ax.set_yticks([])
ax.set_title("Disease–drug–gene graph; node area = personalised PageRank from obesity")
ranked_obesity, _ = candidates(hidden, "obesity")
top = ranked_obesity[:8]
bar.barh(top[::-1], [ppr_obesity[d] for d in top[::-1]],
         color=["red" if d == "semaglutide" else "C0" for d in top[::-1]])
bar.set_xlabel("personalised PageRank from obesity")
bar.set_title("Candidate drugs for obesity\n(known indications excluded)")
fig.tight_layout()
save_figure(fig, "12_knowledge_graph.png", dpi=120)

# %% [markdown]
# ## Summary
# - A knowledge graph stores typed facts; PageRank and HITS read structure out of it.
# - Personalised PageRank from a disease ranks the drugs a short walk away: on this
#   graph it recovers hidden indications far better than chance — because drugs that
#   share a target often share indications. It proposes hypotheses, not treatments.
# - PageRank is the dominant left eigenvector of the Google matrix $G$, the walk as one
#   row-stochastic matrix; the power iteration finds it without ever building $G$.
# - HITS splits the graph into hubs (drugs) and authorities (their diseases and targets);
#   its power iteration is slow when the top two singular values are close. Its scores
#   are scaled to a maximum of 1 while iterating and, by default, to a sum of 1 at the end.
#
# Exercises: (1) rank candidates for heart failure after hiding *dapagliflozin treats heart
# failure*; (2) lower $\alpha$ and watch the ranking favour the disease's direct
# neighbourhood; (3) give `treats` edges weight 2 and see what changes.

# %%
assert abs(sum(pr.values()) - 1) < 1e-12
assert ranked_obesity[0] == "semaglutide"
assert mrr > 3 * mrr_chance, "hidden indications are found far better than chance"
assert not converged_by_default and (sigma[1] / sigma[0]) ** 2 > 0.8
assert all(kg.node_type(n) == "drug" for n in sorted(hubs, key=hubs.get, reverse=True)[:5])
assert all(kg.node_type(n) != "drug" for n in sorted(authorities, key=authorities.get, reverse=True)[:5])
assert abs(sum(hubs.values()) - 1) < 1e-12 and abs(sum(authorities.values()) - 1) < 1e-12
assert abs(max(hubs_raw.values()) - 1) < 1e-12 and abs(max(authorities_raw.values()) - 1) < 1e-12
assert np.allclose(G.sum(axis=1), 1) and abs(eigenvalues[leading] - 1) < 1e-12
assert gap < 1e-10, "PageRank is the Google matrix's dominant eigenvector"
