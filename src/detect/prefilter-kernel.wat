;; The prefilter's hot loop (prefilter.ts explains the filter; it fills the tables).
;; WebAssembly because this loop reads every byte of every input: here it runs at about
;; 2 ns/byte, the same loop in JavaScript at 3-5 (bounds checks, no unsigned arithmetic).
;; Rebuild the embedded bytes after an edit: `npm run build:kernel`.
;;
;; Memory (all offsets fixed, prefilter.ts mirrors them):
;;   0       L1: 2^20-bit set of anchor hashes            (128 KiB)
;;   131072  DIRECT: anchors of short keywords, second hash (128 KiB)
;;   262144  L2: (anchor, next four bytes) hashes         (128 KiB)
;;   393216  SHORT: folded first two bytes of 2-byte keywords, one byte each (64 KiB)
;;   458752  OUT: candidate positions, i32                 (16 KiB)
;;   524288  DATA: the bytes being scanned
(module
  (memory (export "memory") 25)

  ;; Candidate positions i in [from, limit) (limit <= to - 3) into OUT, at most max of them; returns
  ;; how many. Byte positions are offsets in memory (DATA + offset in the window).
  (func (export "candidates") (param $from i32) (param $to i32) (param $limit i32) (param $max i32) (result i32)
    (local $i i32) (local $w i32) (local $h i32) (local $n i32) (local $h8 i32) (local $h2 i32)
    (if (i32.ge_u (local.get $from) (local.get $limit)) (then (return (i32.const 0))))
    (local.set $i (local.get $from))
    ;; the window holds the folded bytes i..i+3, most significant first
    (local.set $w (i32.or (i32.or
      (i32.shl (i32.or (i32.load8_u (local.get $i)) (i32.const 0x20)) (i32.const 16))
      (i32.shl (i32.or (i32.load8_u offset=1 (local.get $i)) (i32.const 0x20)) (i32.const 8)))
      (i32.or (i32.load8_u offset=2 (local.get $i)) (i32.const 0x20))))
    (block $done
      (loop $next
        (local.set $w (i32.or (i32.shl (local.get $w) (i32.const 8))
          (i32.or (i32.load8_u offset=3 (local.get $i)) (i32.const 0x20))))
        (local.set $h (i32.shr_u (i32.mul (local.get $w) (i32.const 0x9e3779b1)) (i32.const 12)))
        (if (i32.or
              (i32.and (i32.shr_u (i32.load (i32.shl (i32.shr_u (local.get $h) (i32.const 5)) (i32.const 2))) (local.get $h)) (i32.const 1))
              (i32.load8_u offset=393216 (i32.shr_u (local.get $w) (i32.const 16))))
          (then
            (block $candidate
              ;; short keywords, and a window too close to the end for the second check: candidates
              ;; (DIRECT is indexed by a second hash of the window: a collision in L1 is rarely one here)
              (local.set $h2 (i32.shr_u (i32.mul (local.get $w) (i32.const 0x85ebca6b)) (i32.const 12)))
              (br_if $candidate (i32.and (i32.shr_u (i32.load offset=131072 (i32.shl (i32.shr_u (local.get $h2) (i32.const 5)) (i32.const 2))) (local.get $h2)) (i32.const 1)))
              (br_if $candidate (i32.load8_u offset=393216 (i32.shr_u (local.get $w) (i32.const 16))))
              (br_if $candidate (i32.gt_u (i32.add (local.get $i) (i32.const 8)) (local.get $to)))
              ;; long keywords: the four bytes after the anchor (loaded little-endian, folded) must match too
              (local.set $h8 (i32.shr_u
                (i32.mul (i32.xor (local.get $w)
                  (i32.mul (i32.or (i32.load offset=4 (local.get $i)) (i32.const 0x20202020)) (i32.const 0x85ebca6b)))
                  (i32.const 0x9e3779b1))
                (i32.const 12)))
              (br_if $candidate (i32.and (i32.shr_u (i32.load offset=262144 (i32.shl (i32.shr_u (local.get $h8) (i32.const 5)) (i32.const 2))) (local.get $h8)) (i32.const 1)))
              (br 1))
            (i32.store offset=458752 (i32.shl (local.get $n) (i32.const 2)) (local.get $i))
            (local.set $n (i32.add (local.get $n) (i32.const 1)))
            (br_if $done (i32.ge_u (local.get $n) (local.get $max)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $next (i32.lt_u (local.get $i) (local.get $limit)))))
    (local.get $n))
)
