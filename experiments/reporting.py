"""Result files: PNG images, realism grid, precision/recall plot, summary table."""
import io

import numpy as np
import PIL.Image

from dnnlib.output_files import atomic_output


def save_png(path, image_chw):
    """Write a uint8 [3, H, W] RGB image as PNG, atomically."""
    buffer = io.BytesIO()
    PIL.Image.fromarray(np.asarray(image_chw, np.uint8).transpose(1, 2, 0), 'RGB').save(buffer, format='PNG')
    with atomic_output(path, 'wb') as f:
        f.write(buffer.getvalue())
    return path


def _label(width, height, text, size=None):
    """A white strip [height, width, 3] uint8 with black text drawn by PIL's default font."""
    import PIL.ImageDraw
    import PIL.ImageFont
    strip = PIL.Image.new('RGB', (width, height), (255, 255, 255))
    draw = PIL.ImageDraw.Draw(strip)
    try:
        font = PIL.ImageFont.load_default(size=size or max(10, height * 2 // 3))
    except TypeError:  # Pillow < 10.1: fixed-size bitmap font
        font = PIL.ImageFont.load_default()
    draw.text((4, max(0, height // 8)), text, fill=(0, 0, 0), font=font)
    return np.asarray(strip)


def save_realism_grid(path, high_images, low_images, high_scores=None, low_scores=None, columns=8, thumb=128):
    """Grid PNG: a titled block of the highest-realism thumbnails, then a titled block of the lowest.

    Each thumbnail is labelled with its realism score when scores are given. Images: uint8 [3, H, W].
    """
    columns = max(1, min(columns, len(high_images)))
    caption = max(14, thumb // 8)

    def block(title, images, scores):
        cells = []
        for i, img in enumerate(images):
            cell = np.asarray(PIL.Image.fromarray(img.transpose(1, 2, 0)).resize((thumb, thumb), PIL.Image.LANCZOS))
            if scores is not None:
                cell = np.concatenate([cell, _label(thumb, caption, '%.3f' % scores[i])], axis=0)
            cells.append(cell)
        while len(cells) % columns:
            cells.append(np.full_like(cells[0], 255))
        rows = [np.concatenate(cells[i:i + columns], axis=1) for i in range(0, len(cells), columns)]
        return [_label(rows[0].shape[1], caption * 2, title)] + rows

    high = block('highest realism (score shown under each image)', high_images, high_scores)
    low = block('lowest realism', low_images, low_scores)
    gap = np.full((thumb // 4, high[0].shape[1], 3), 255, np.uint8)
    grid = np.concatenate(high + [gap] + low, axis=0)
    return save_png(path, grid.transpose(2, 0, 1))


def save_truncation_plot(path, rows, intervals=None):
    """Precision and recall versus truncation psi, as a PNG.

    rows: [psi, precision, recall]; intervals: None or, per row, {'precision': {'low', 'high'}, 'recall': ...}
    (bootstrap intervals), drawn as error bars.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    rows = np.asarray(rows, np.float64)
    fig, ax = plt.subplots(figsize=(5, 3.5), dpi=120)
    for column, name, style in ((1, 'precision', 'o-'), (2, 'recall', 's-')):
        if intervals:
            low = np.array([iv[name]['low'] for iv in intervals])
            high = np.array([iv[name]['high'] for iv in intervals])
            err = np.stack([rows[:, column] - low, high - rows[:, column]])
            ax.errorbar(rows[:, 0], rows[:, column], yerr=np.maximum(err, 0), fmt=style, capsize=3,
                        label='%s (%d%% bootstrap interval)' % (name, round(100 * intervals[0][name]['confidence'])))
        else:
            ax.plot(rows[:, 0], rows[:, column], style, label=name)
    ax.set_xlabel('truncation psi')
    ax.set_ylabel('value')
    ax.set_ylim(-0.02, 1.02)
    ax.invert_xaxis()
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format='png')
    plt.close(fig)
    with atomic_output(path, 'wb') as f:
        f.write(buffer.getvalue())
    return path


# The official README's FFHQ-1024 StyleGAN numbers (official networks, 50,000 images, k = 3): psi -> (P, R).
OFFICIAL_REFERENCE = {1.0: (0.720, 0.393), 0.7: (0.811, 0.223), 0.3: (0.892, 0.015)}


def summary_table(rows, intervals=None, reference=None):
    """Text table of [psi, precision, recall] rows.

    intervals: None or per-row bootstrap intervals (shown as [low, high]);
    reference: None or {psi: (precision, recall)} shown beside ours (the official README's values).
    """
    head = '%-16s %10s %10s' % ('truncation_psi', 'precision', 'recall')
    if intervals:
        head += '   %-17s %-17s' % ('precision %d%% CI' % round(100 * intervals[0]['precision']['confidence']),
                                    'recall CI')
    if reference:
        head += '   %-21s' % 'official README P / R'
    lines = [head]
    for i, (psi, p, r) in enumerate(rows):
        line = '%-16g %10.3f %10.3f' % (psi, p, r)
        if intervals:
            ci = intervals[i]
            line += '   [%.3f, %.3f]    [%.3f, %.3f]   ' % (ci['precision']['low'], ci['precision']['high'],
                                                          ci['recall']['low'], ci['recall']['high'])
        if reference:
            ref = reference.get(round(float(psi), 6))
            line += '   %s' % ('%.3f / %.3f' % ref if ref else '-')
        lines.append(line.rstrip())
    return '\n'.join(lines)


def save_truncation_txt(path, rows):
    """Write the official `stylegan_truncation.txt`: header 'truncation_psi,precision,recall', float32 rows, %.18e."""
    table = np.asarray(rows, dtype=np.float32).reshape(-1, 3)
    with atomic_output(path) as f:
        np.savetxt(f, table, header='truncation_psi,precision,recall', delimiter=',', comments='')
