/* The smallest WebKitGTK window: one GTK window, one web view with the same settings
 * Keybridge's window uses (no hardware acceleration, the document-viewer cache model),
 * showing a two-line page. scripts/measure-desktop.sh --webkit-floor measures its idle
 * memory the way it measures Keybridge's, to show what the platform's web view costs
 * before any application is in it. Prints "the window is usable" once the page loaded.
 * Not shipped; built by that script with the WebKitGTK development files. */
#include <gtk/gtk.h>
#include <stdio.h>
#include <webkit2/webkit2.h>

static void on_load(WebKitWebView *view, WebKitLoadEvent event, gpointer data) {
    (void)view;
    (void)data;
    if (event == WEBKIT_LOAD_FINISHED) {
        printf("the window is usable\n");
        fflush(stdout);
    }
}

int main(int argc, char **argv) {
    gtk_init(&argc, &argv);
    GtkWidget *window = gtk_window_new(GTK_WINDOW_TOPLEVEL);
    gtk_window_set_default_size(GTK_WINDOW(window), 1100, 720);
    webkit_web_context_set_cache_model(webkit_web_context_get_default(),
                                       WEBKIT_CACHE_MODEL_DOCUMENT_VIEWER);
    WebKitWebView *view = WEBKIT_WEB_VIEW(webkit_web_view_new());
    webkit_settings_set_hardware_acceleration_policy(webkit_web_view_get_settings(view),
                                                     WEBKIT_HARDWARE_ACCELERATION_POLICY_NEVER);
    g_signal_connect(view, "load-changed", G_CALLBACK(on_load), NULL);
    gtk_container_add(GTK_CONTAINER(window), GTK_WIDGET(view));
    webkit_web_view_load_html(view, "<!doctype html><h1>Hello</h1><p>A minimal page.</p>", NULL);
    g_signal_connect(window, "destroy", G_CALLBACK(gtk_main_quit), NULL);
    gtk_widget_show_all(window);
    gtk_main();
    return 0;
}
