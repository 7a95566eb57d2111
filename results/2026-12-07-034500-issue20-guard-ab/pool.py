import json,statistics as st,itertools,math,sys
from collections import defaultdict
def mwu_p(a,b):
    # exact two-sided p via normal approx with tie correction (n>=10 each is fine)
    n1,n2=len(a),len(b); allv=sorted([(v,0) for v in a]+[(v,1) for v in b])
    ranks={}; i=0; vals=[v for v,_ in allv]; rk=[0]*len(vals); ties=0
    while i<len(vals):
        j=i
        while j<len(vals) and vals[j]==vals[i]: j+=1
        r=(i+j+1)/2
        for k in range(i,j): rk[k]=r
        t=j-i; ties+=t**3-t; i=j
    R1=sum(r for r,(v,g) in zip(rk,allv) if g==0)
    U=R1-n1*(n1+1)/2; mu=n1*n2/2; N=n1+n2
    sd=math.sqrt(n1*n2/12*((N+1)-ties/(N*(N-1))))
    z=max(0.0,(abs(U-mu)-0.5)/sd) if sd>0 else 0
    return math.erfc(z/math.sqrt(2))
D=defaultdict(lambda: defaultdict(list)); S=defaultdict(lambda: defaultdict(list))
for l in open(sys.argv[1]):
    d=json.loads(l); k=(d['bench'],d['procs'],d['sched'])
    D[k][d['side']].append(d['r']['ns']); S[k][d['side']].append(d['r']['stacks']/d['r']['n'])
print("| workload | procs | gen | fresh stacks / goroutine | old ns/op | new ns/op | new/old | new-old ns | p | runs |")
print("|---|---|---|---|---|---|---|---|---|---|")
for k in D:
    o,n=D[k]['old'],D[k]['new']
    if not o or not n: continue
    mo,mn=st.median(o),st.median(n)
    print(f"| {k[0]} | {k[1]} | {k[2]} | {st.median(S[k]['new']):.2f} | {mo:.0f} | {mn:.0f} | {mn/mo:.3f} | {mn-mo:+.0f} | {mwu_p(o,n):.3f} | {len(o)}/{len(n)} |")
