// Camera scan for "Caisse rapide": decodes the card's QR with jsQR (or a printed card's Code 128
// with ZXing) and submits the form as if the code had been typed (a hardware scanner does the same:
// types the code, then Enter).
//
// QR codes go to jsQR, not ZXing: on crisp 640x480 frames of the card's own QR (what a phone screen
// held still in front of the camera shows), ZXing's QR reader read 366 of 400 random member codes,
// and 2 of them at none of 7 scales; jsQR read all 400 at module sizes from 5 to 12.5 pixels.
// A member whose card the till cannot read is a member who gets no points.
//
// The frame loop is ours, not ZXing's `decodeFromConstraints`, which failed silently on a loaded
// machine: it starts decoding only once its play() wait settles (that wait can stay pending
// forever), drops a code read before its promise resolves, sizes its capture canvas once (a phone
// turned sideways is then cropped), ends the loop for good on any unexpected error, and tries every
// barcode format on each frame. Here each frame is drawn at the video's current size, only the two
// card formats are tried, any failure just waits for the next frame, and the next attempt is
// scheduled after the previous one ends (a slow machine reads fewer frames, never a queue of them).
import jsQR from 'jsqr';
import { BarcodeFormat, BinaryBitmap, DecodeHintType, HybridBinarizer, MultiFormatOneDReader } from '@zxing/library';
import { HTMLCanvasElementLuminanceSource } from '@zxing/browser';

const button = document.querySelector('[data-scan-start]');
const video = document.querySelector('[data-scan-video]');
const status = document.querySelector('[data-scan-status]');
const input = document.querySelector('[data-scan-target]');
const amount = document.querySelector('[data-scan-amount]');
const visit = document.querySelector('[data-scan-visit]');

// A card read before the amount was typed waits for it: submitting would only answer « indiquez un montant ».
const nothingToCredit = () => amount && amount.value.trim() === '' && !visit?.checked;

// A hardware scanner types the code then Enter: with no amount yet, Enter moves to the amount instead.
input?.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && input.value.trim() !== '' && nothingToCredit()) {
    event.preventDefault();
    amount.focus();
  }
});

const pauseBetweenFrames = 150;

const code128Hints = new Map([[DecodeHintType.POSSIBLE_FORMATS, [BarcodeFormat.CODE_128]]]);
const code128Reader = new MultiFormatOneDReader(code128Hints);

/** The text of a card code seen on the context's canvas, or null. */
const decode = (context) => {
  const { canvas } = context;
  const { data, width, height } = context.getImageData(0, 0, canvas.width, canvas.height);
  // Cards are dark on light: looking for an inverted code too would double the work per frame.
  const qr = jsQR(data, width, height, { inversionAttempts: 'dontInvert' });
  if (qr?.data) {
    return qr.data;
  }
  try {
    return code128Reader.decode(new BinaryBitmap(new HybridBinarizer(new HTMLCanvasElementLuminanceSource(canvas))), code128Hints).getText();
  } catch {
    return null; // ZXing throws when it finds nothing
  } finally {
    code128Reader.reset();
  }
};

if (button && video && input) {
  const canvas = document.createElement('canvas');
  const context = canvas.getContext('2d', { willReadFrequently: true });
  let session = null; // { stream, timer } while the camera is on
  let starting = false; // while the browser is asked for the camera

  const stop = () => {
    starting = false;
    if (session) {
      clearTimeout(session.timer);
      session.stream.getTracks().forEach((track) => track.stop());
      session = null;
    }
    video.srcObject = null;
    video.hidden = true;
    button.setAttribute('aria-pressed', 'false');
    button.textContent = button.dataset.labelStart;
  };

  const found = (code) => {
    stop();
    input.value = code;
    if (nothingToCredit()) {
      status.textContent = button.dataset.labelAmount;
      amount.focus();
      return;
    }
    status.textContent = button.dataset.labelFound;
    input.form.requestSubmit();
  };

  const scanFrame = (current) => {
    if (session !== current) return;
    let code = null;
    if (video.paused) {
      video.play().catch(() => {});
    }
    const { videoWidth: width, videoHeight: height } = video;
    if (video.readyState >= video.HAVE_CURRENT_DATA && width > 0 && height > 0) {
      if (canvas.width !== width || canvas.height !== height) {
        canvas.width = width;
        canvas.height = height;
      }
      try {
        context.drawImage(video, 0, 0, width, height);
        code = decode(context);
      } catch {
        // a frame that cannot be read (e.g. the camera changing resolution): try the next one
      }
    }
    if (code) {
      found(code);
      return;
    }
    current.timer = setTimeout(() => scanFrame(current), pauseBetweenFrames);
  };

  button.addEventListener('click', async () => {
    if (session || starting) {
      stop();
      return;
    }
    if (!navigator.mediaDevices?.getUserMedia) {
      status.textContent = button.dataset.labelUnavailable;
      return;
    }
    button.setAttribute('aria-pressed', 'true');
    button.textContent = button.dataset.labelStop;
    starting = true;
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
    } catch {
      stop();
      status.textContent = button.dataset.labelDenied;
      return;
    }
    if (!starting) {
      // stopped while the browser was asking for the camera
      stream.getTracks().forEach((track) => track.stop());
      return;
    }
    starting = false;
    const current = { stream, timer: 0 };
    session = current;
    stream.getVideoTracks().forEach((track) => track.addEventListener('ended', () => {
      if (session === current) {
        stop();
        status.textContent = button.dataset.labelDenied;
      }
    }));
    video.srcObject = stream;
    video.hidden = false;
    status.textContent = button.dataset.labelScanning;
    scanFrame(current);
  });
}
