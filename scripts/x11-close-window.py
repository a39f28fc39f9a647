# Usage: x11-close-window.py PID [--count]   (on $DISPLAY; used by measure-desktop.sh)
# Asks the mapped toplevel windows of process PID to close, as a window manager's close
# button does (a WM_DELETE_WINDOW client message), and prints how many it asked. With
# --count it only prints how many there are. Plain ctypes over libX11: Xvfb machines
# have no window manager and no xdotool.
import ctypes, ctypes.util, sys

x = ctypes.cdll.LoadLibrary(ctypes.util.find_library("X11"))
c_ulong, c_long, c_int, c_void_p = ctypes.c_ulong, ctypes.c_long, ctypes.c_int, ctypes.c_void_p
x.XOpenDisplay.restype = c_void_p
x.XOpenDisplay.argtypes = [ctypes.c_char_p]
x.XDefaultRootWindow.restype = c_ulong
x.XDefaultRootWindow.argtypes = [c_void_p]
x.XInternAtom.restype = c_ulong
x.XInternAtom.argtypes = [c_void_p, ctypes.c_char_p, c_int]
x.XQueryTree.argtypes = [c_void_p, c_ulong, ctypes.POINTER(c_ulong), ctypes.POINTER(c_ulong),
                         ctypes.POINTER(ctypes.POINTER(c_ulong)), ctypes.POINTER(ctypes.c_uint)]
x.XGetWindowProperty.argtypes = [c_void_p, c_ulong, c_ulong, c_long, c_long, c_int, c_ulong,
                                 ctypes.POINTER(c_ulong), ctypes.POINTER(c_int), ctypes.POINTER(c_ulong),
                                 ctypes.POINTER(c_ulong), ctypes.POINTER(ctypes.POINTER(ctypes.c_ubyte))]
x.XSendEvent.argtypes = [c_void_p, c_ulong, c_int, c_long, c_void_p]
x.XFlush.argtypes = [c_void_p]
x.XFree.argtypes = [c_void_p]

class XWindowAttributes(ctypes.Structure):
    _fields_ = [("x", c_int), ("y", c_int), ("width", c_int), ("height", c_int), ("border_width", c_int),
                ("depth", c_int), ("visual", c_void_p), ("root", c_ulong), ("class", c_int),
                ("bit_gravity", c_int), ("win_gravity", c_int), ("backing_store", c_int),
                ("backing_planes", c_ulong), ("backing_pixel", c_ulong), ("save_under", c_int),
                ("colormap", c_ulong), ("map_installed", c_int), ("map_state", c_int),
                ("all_event_masks", c_long), ("your_event_mask", c_long),
                ("do_not_propagate_mask", c_long), ("override_redirect", c_int), ("screen", c_void_p)]
x.XGetWindowAttributes.argtypes = [c_void_p, c_ulong, ctypes.POINTER(XWindowAttributes)]

class XClientMessageEvent(ctypes.Structure):
    _fields_ = [("type", c_int), ("serial", c_ulong), ("send_event", c_int), ("display", c_void_p),
                ("window", c_ulong), ("message_type", c_ulong), ("format", c_int), ("data", c_long * 5)]

class XEvent(ctypes.Union):
    _fields_ = [("xclient", XClientMessageEvent), ("pad", c_long * 24)]

pid, count_only = int(sys.argv[1]), "--count" in sys.argv
d = x.XOpenDisplay(None)
if not d:
    sys.exit("no X display")
root = x.XDefaultRootWindow(d)
net_wm_pid = x.XInternAtom(d, b"_NET_WM_PID", 0)
protocols = x.XInternAtom(d, b"WM_PROTOCOLS", 0)
delete = x.XInternAtom(d, b"WM_DELETE_WINDOW", 0)

def window_pid(w):
    t, f, n, after = c_ulong(), c_int(), c_ulong(), c_ulong()
    data = ctypes.POINTER(ctypes.c_ubyte)()
    if x.XGetWindowProperty(d, w, net_wm_pid, 0, 1, 0, 0, ctypes.byref(t), ctypes.byref(f),
                            ctypes.byref(n), ctypes.byref(after), ctypes.byref(data)) != 0 or not data:
        return None
    value = ctypes.cast(data, ctypes.POINTER(c_ulong))[0] if n.value else None
    x.XFree(data)
    return value

r, p, kids, nkids = c_ulong(), c_ulong(), ctypes.POINTER(c_ulong)(), ctypes.c_uint()
x.XQueryTree(d, root, ctypes.byref(r), ctypes.byref(p), ctypes.byref(kids), ctypes.byref(nkids))
found = 0
for i in range(nkids.value):
    w = kids[i]
    if window_pid(w) != pid:
        continue
    attrs = XWindowAttributes()
    x.XGetWindowAttributes(d, w, ctypes.byref(attrs))
    if attrs.map_state != 2:  # IsViewable
        continue
    found += 1
    if count_only:
        continue
    ev = XEvent()
    ev.xclient.type = 33  # ClientMessage
    ev.xclient.window = w
    ev.xclient.message_type = protocols
    ev.xclient.format = 32
    ev.xclient.data[0] = delete
    x.XSendEvent(d, w, 0, 0, ctypes.byref(ev))
x.XFlush(d)
print(found)
