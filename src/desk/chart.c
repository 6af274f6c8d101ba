/* chart.c - the digest's chart: the share of service-level clocks that met
 * their target, per plan, in each of the last weeks, as grouped bars in a
 * PNG drawn with cairo (its image surface and PNG writer; no fonts beyond
 * cairo's "toy" text API, which needs no font files we ship).  Pure
 * drawing: the data comes from plan_digest. */
#include <cairo.h>
#include <glib.h>
#include <string.h>

#include "desk-private.h"

#define W 640
#define H 320
#define LEFT 48
#define RIGHT 160 /* the legend */
#define TOP 36
#define BOTTOM 40

static cairo_status_t write_png(void *closure, const unsigned char *data, unsigned int length)
{
	GByteArray *out = closure;
	if (out->len + length > 4 * 1024 * 1024)
		return CAIRO_STATUS_WRITE_ERROR;
	g_byte_array_append(out, data, length);
	return CAIRO_STATUS_SUCCESS;
}

/* Colours that stay apart in print and for the colour-blind (Okabe-Ito). */
static const double palette[][3] = {
	{0.000, 0.447, 0.698}, {0.902, 0.624, 0.000}, {0.000, 0.620, 0.451}, {0.800, 0.475, 0.655},
	{0.337, 0.706, 0.914}, {0.835, 0.369, 0.000}, {0.941, 0.894, 0.259}, {0.000, 0.000, 0.000},
};

int chart_compliance_png(const DigestChart *c, GByteArray *out)
{
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
	cairo_t *cr = cairo_create(s);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);

	cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
	cairo_set_font_size(cr, 14);
	cairo_move_to(cr, LEFT, 22);
	cairo_show_text(cr, "Targets met per week (first response and resolution)");

	double plot_w = W - LEFT - RIGHT, plot_h = H - TOP - BOTTOM;
	/* grid: 0, 25, 50, 75, 100 % */
	cairo_set_font_size(cr, 10);
	cairo_set_line_width(cr, 1);
	for (int p = 0; p <= 100; p += 25) {
		double y = TOP + plot_h * (1.0 - p / 100.0);
		cairo_set_source_rgb(cr, 0.85, 0.85, 0.85);
		cairo_move_to(cr, LEFT, y + 0.5);
		cairo_line_to(cr, LEFT + plot_w, y + 0.5);
		cairo_stroke(cr);
		char label[8];
		g_snprintf(label, sizeof label, "%d%%", p);
		cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
		cairo_move_to(cr, 8, y + 4);
		cairo_show_text(cr, label);
	}

	size_t n = c->n_plans < G_N_ELEMENTS(c->plans) ? c->n_plans : G_N_ELEMENTS(c->plans);
	double group = plot_w / DIGEST_WEEKS;
	double bar = n ? (group * 0.8) / (double)n : 0;
	for (int w = 0; w < DIGEST_WEEKS; w++) {
		double gx = LEFT + group * w + group * 0.1;
		for (size_t k = 0; k < n; k++) {
			int pct = c->percent[k][w];
			const double *col = palette[k % G_N_ELEMENTS(palette)];
			double x = gx + bar * (double)k;
			if (pct < 0) { /* nothing ended that week: a dash */
				cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
				cairo_move_to(cr, x + 1, TOP + plot_h - 1.5);
				cairo_line_to(cr, x + bar - 1, TOP + plot_h - 1.5);
				cairo_stroke(cr);
				continue;
			}
			if (pct > 100)
				pct = 100;
			double h = plot_h * pct / 100.0;
			cairo_set_source_rgb(cr, col[0], col[1], col[2]);
			cairo_rectangle(cr, x + 1, TOP + plot_h - h, bar - 2 > 1 ? bar - 2 : 1, h);
			cairo_fill(cr);
		}
		if (c->week_labels[w]) {
			cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
			cairo_move_to(cr, gx, H - BOTTOM + 16);
			char label[40];
			g_snprintf(label, sizeof label, "week of %s", c->week_labels[w]);
			cairo_show_text(cr, label);
		}
	}
	/* axis */
	cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
	cairo_move_to(cr, LEFT, TOP + plot_h + 0.5);
	cairo_line_to(cr, LEFT + plot_w, TOP + plot_h + 0.5);
	cairo_stroke(cr);

	/* legend */
	for (size_t k = 0; k < n; k++) {
		const double *col = palette[k % G_N_ELEMENTS(palette)];
		double y = TOP + 8 + 18.0 * (double)k;
		cairo_set_source_rgb(cr, col[0], col[1], col[2]);
		cairo_rectangle(cr, W - RIGHT + 12, y - 9, 10, 10);
		cairo_fill(cr);
		cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
		cairo_move_to(cr, W - RIGHT + 28, y);
		char label[40];
		g_snprintf(label, sizeof label, "%.30s", c->plans[k] ? c->plans[k] : "?");
		cairo_show_text(cr, label);
	}
	if (n == 0) {
		cairo_set_source_rgb(cr, 0.4, 0.4, 0.4);
		cairo_move_to(cr, LEFT + 20, TOP + plot_h / 2);
		cairo_show_text(cr, "no clock ended in these weeks");
	}

	cairo_destroy(cr);
	cairo_status_t st = cairo_surface_write_to_png_stream(s, write_png, out);
	cairo_surface_destroy(s);
	return st == CAIRO_STATUS_SUCCESS ? 0 : -1;
}
