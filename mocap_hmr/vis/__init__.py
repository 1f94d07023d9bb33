"""The pictures room: every chart, preview, training picture, study figure and video frame,
drawn with matplotlib on its Agg canvas (``figure``: the house style, the canvas, PNG out).

- ``charts``: the studies' bar charts, curves over a swept value and differences with error bars
- ``gain``: the per-sample gain histogram and the gain by pose distance (the paper's Figure 7)
- ``curves``: training curves of a run's metrics and values over frames (``smooth --plot``)
- ``grids``: grids of rendered crops with labels (render, body and appearance previews, the
  training pictures with the predicted meshes)
- ``skeletons``: stick figures of motion files (``synth-motion --preview``)
- ``video``: the before/after frames of ``smooth --video``

Meshes are rendered in ``renderers``; this room only lays the renderings out and labels them.
Nothing below it draws pictures, and it never imports training, evaluation or studies."""
