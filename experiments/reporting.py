"""Result files: PNG images, realism grid, precision/recall plot, summary table."""
import io

import numpy as np
import PIL.Image

from utils import atomic_output


def save_png(path, image_chw):
    """Write a uint8 [3, H, W] RGB image as PNG, atomically."""
    buffer = io.BytesIO()
    PIL.Image.fromarray(np.asarray(image_chw, np.uint8).transpose(1, 2, 0), 'RGB').save(buffer, format='PNG')
    with atomic_output(path, 'wb') as f:
        f.write(buffer.getvalue())
    return path


def save_realism_grid(path, high_images, low_images, columns=8, thumb=128):
    """Grid PNG: rows of highest-realism thumbnails (top half) and lowest (bottom half), separated by a gap."""
    columns = max(1, min(columns, len(high_images)))

    def rows_of(images):
        thumbs = [np.asarray(PIL.Image.fromarray(img.transpose(1, 2, 0)).resize((thumb, thumb), PIL.Image.LANCZOS))
                  for img in images]
        while len(thumbs) % columns:
            thumbs.append(np.zeros_like(thumbs[0]))
        return [np.concatenate(thumbs[i:i + columns], axis=1) for i in range(0, len(thumbs), columns)]
    high, low = rows_of(high_images), rows_of(low_images)
    gap = np.full((thumb // 4, high[0].shape[1], 3), 255, np.uint8)
    grid = np.concatenate(high + [gap] + low, axis=0)
    return save_png(path, grid.transpose(2, 0, 1))


def save_truncation_plot(path, rows):
    """Precision and recall versus truncation psi, as a PNG."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    rows = np.asarray(rows, np.float64)
    fig, ax = plt.subplots(figsize=(5, 3.5), dpi=120)
    ax.plot(rows[:, 0], rows[:, 1], 'o-', label='precision')
    ax.plot(rows[:, 0], rows[:, 2], 's-', label='recall')
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


def summary_table(rows):
    """Text table of [psi, precision, recall] rows."""
    lines = ['%-16s %10s %10s' % ('truncation_psi', 'precision', 'recall')]
    lines += ['%-16g %10.3f %10.3f' % (psi, p, r) for psi, p, r in rows]
    return '\n'.join(lines)
